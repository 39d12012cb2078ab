-- materialized: incremental by kommunekode
-- Grain: one row per (year, kommunekode, aftalenummer, category) with goods spend in a category that a
-- framework agreement covers, dated within the agreement's validity period.
-- Implements METHODS 8 (aftaleoverholdelse) before pooling:
-- * an agreement covers a category from its earliest gyldig_fra to its latest gyldig_til over the
--   agreement's rows for that category (an empty date = open-ended);
-- * category_spend_kr = goods spend (credit notes negative) in the category with an invoice date inside
--   that period;
-- * agreement_spend_kr = the part of it whose document names a supplier CVR listed by the agreement for the
--   category, the invoice date inside that supplier row's own validity period;
-- * the distinct suppliers (supplier_cvr) behind each part, for the disclosure rule of the published figures
--   (METHODS 9): category_suppliers, agreement_suppliers and other_suppliers (of the rest of the spend).
with agreement_rows as (
    select
        trim(aftalenummer) as aftalenummer,
        trim(navn) as aftale_navn,
        trim(indkoebskategori) as category,
        trim(leverandoer_cvr) as cvr,
        coalesce(cast(gyldig_fra as date), date '0001-01-01') as valid_from,
        coalesce(cast(gyldig_til as date), date '9999-12-31') as valid_to
    from reference.aftaler
),

agreement_categories as (
    select
        aftalenummer,
        category,
        min(aftale_navn) as aftale_navn,
        min(valid_from) as valid_from,
        max(valid_to) as valid_to
    from agreement_rows
    group by aftalenummer, category
),

-- the goods spend per document in a category some agreement covers, with the document's date and CVRs
document_categories as (
    select
        categories.document_id,
        documents.year,
        documents.kommunekode,
        documents.issue_date,
        categories.category,
        documents.supplier_cvr,
        documents.supplier_cvrs,
        categories.goods_spend_kr
    from intermediate.int_invoice_categories as categories
    inner join intermediate.int_invoice_document_copies as documents
        on categories.document_id = documents.document_id
        and categories.kommunekode = documents.kommunekode
        and documents.is_winning_copy
    where categories.category in (select category from agreement_categories)
        and in_changed_units(categories.kommunekode)
        and in_changed_units(documents.kommunekode)
),

in_period as (
    select
        document_categories.*,
        agreement_categories.aftalenummer,
        agreement_categories.aftale_navn
    from document_categories
    inner join agreement_categories
        on document_categories.category = agreement_categories.category
        and document_categories.issue_date between agreement_categories.valid_from and agreement_categories.valid_to
),

document_cvrs as (
    select document_id, aftalenummer, category, issue_date, unnest(supplier_cvrs) as cvr
    from in_period
),

on_agreement as (
    select distinct document_cvrs.document_id, document_cvrs.aftalenummer, document_cvrs.category
    from document_cvrs
    inner join agreement_rows
        on document_cvrs.aftalenummer = agreement_rows.aftalenummer
        and document_cvrs.category = agreement_rows.category
        and document_cvrs.cvr = agreement_rows.cvr
        and document_cvrs.issue_date between agreement_rows.valid_from and agreement_rows.valid_to
),

final as (
    select
        in_period.year,
        in_period.kommunekode,
        in_period.aftalenummer,
        any_value(in_period.aftale_navn) as aftale_navn,
        in_period.category,
        cast(sum(in_period.goods_spend_kr) as decimal(18, 2)) as category_spend_kr,
        cast(coalesce(sum(in_period.goods_spend_kr) filter (where on_agreement.document_id is not null), 0)
            as decimal(18, 2)) as agreement_spend_kr,
        count(distinct in_period.supplier_cvr) as category_suppliers,
        count(distinct in_period.supplier_cvr) filter (where on_agreement.document_id is not null)
            as agreement_suppliers,
        count(distinct in_period.supplier_cvr) filter (where on_agreement.document_id is null) as other_suppliers
    from in_period
    left join on_agreement
        on in_period.document_id = on_agreement.document_id
        and in_period.aftalenummer = on_agreement.aftalenummer
        and in_period.category = on_agreement.category
    group by in_period.year, in_period.kommunekode, in_period.aftalenummer, in_period.category
)

select * from final
