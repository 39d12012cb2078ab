-- Grain: one row per (document_id, category) with at least one goods line of the category (METHODS 3, 4).
-- An invoice with goods lines in several categories has a row in each: it counts as a purchase once in
-- each category (and once in the total, which is counted from int_invoices).
with goods_lines as (
    select document_id, category, amount_kr
    from intermediate.int_invoice_lines
    where scope_class = 'goods'
),

document_categories as (
    select
        document_id,
        category,
        count(*) as goods_lines,
        sum(amount_kr) as goods_spend_kr
    from goods_lines
    group by document_id, category
),

invoices as (
    select * from intermediate.int_invoices
),

final as (
    select
        document_categories.document_id,
        document_categories.category,
        invoices.kommunekode,
        invoices.year,
        invoices.issue_date,
        invoices.document_type,
        invoices.supplier_cvr,
        invoices.supplier_cvrs,
        document_categories.goods_lines,
        cast(document_categories.goods_spend_kr as decimal(18, 2)) as goods_spend_kr,
        invoices.is_purchase,
        invoices.is_ehandel
    from document_categories
    inner join invoices on document_categories.document_id = invoices.document_id
)

select * from final
