-- materialized: incremental by kommunekode
-- Grain: one row per (year, kommunekode, category, supplier_cvr, is_purchase, is_ehandel) with goods lines of
-- the category: the number of documents and their goods lines and spend (METHODS 3, 4, 5 per category).
-- int_invoice_categories summed once with its documents' attributes: the category figures per municipality
-- and nationally are sums over these cells, and distinct suppliers are counted over supplier_cvr (METHODS 9).
with documents as (
    select document_id, kommunekode, year, document_type, supplier_cvr
    from intermediate.int_invoice_document_copies
    where is_winning_copy
),

ehandel as (
    select document_id from intermediate.int_ehandel_documents
),

document_categories as (
    select
        documents.year,
        documents.kommunekode,
        categories.category,
        documents.supplier_cvr,
        -- METHODS 4: an invoice with a goods line is a purchase
        documents.document_type = 'invoice' as is_purchase,
        categories.document_id in (select document_id from ehandel) as is_ehandel,
        categories.goods_lines,
        categories.goods_spend_kr
    from intermediate.int_invoice_categories as categories
    inner join documents on categories.document_id = documents.document_id
),

final as (
    select
        year,
        kommunekode,
        category,
        supplier_cvr,
        is_purchase,
        is_ehandel,
        count(*) as documents,
        cast(sum(goods_lines) as bigint) as goods_lines,
        sum(goods_spend_kr) as goods_spend_kr
    from document_categories
    group by year, kommunekode, category, supplier_cvr, is_purchase, is_ehandel
)

select * from final
