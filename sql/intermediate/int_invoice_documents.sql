-- Grain: one row per de-duplicated invoice or credit-note document (document_id).
-- Totals of the document's lines (METHODS 4, 7): total_kr over all lines (fakturamatch compares it with the
-- order), goods_spend_kr over goods lines, unclassified_spend_kr over unclassified lines (data quality).
-- The order reference of a document is its lowest normalised order number (a document names one order).
with invoice_lines as (
    select * from intermediate.int_invoice_lines
),

documents as (
    select
        document_id,
        any_value(kommunekode) as kommunekode,
        any_value(supplier_cvr) as supplier_cvr,
        any_value(supplier_cvrs) as supplier_cvrs,
        any_value(document_type) as document_type,
        any_value(document_number) as document_number,
        any_value(issue_date) as issue_date,
        any_value(year) as year,
        any_value(source_format) as source_format,
        any_value(file_id) as file_id,
        min(order_number_norm) as order_number_norm,
        min(credited_document_number) as credited_document_number,
        count(*) as line_count,
        count(*) filter (where scope_class = 'goods') as goods_lines,
        sum(amount_kr) as total_kr,
        coalesce(sum(amount_kr) filter (where scope_class = 'goods'), 0) as goods_spend_kr,
        coalesce(sum(amount_kr) filter (where scope_class = 'unclassified'), 0) as unclassified_spend_kr
    from invoice_lines
    group by document_id
),

final as (
    select
        document_id,
        kommunekode,
        supplier_cvr,
        -- every CVR the supplier party names, the primary one included (METHODS 5: a CVR in common)
        list_sort(list_distinct(list_filter(list_prepend(supplier_cvr, coalesce(supplier_cvrs, [])), lambda x: x is not null)))
            as supplier_cvrs,
        document_type,
        document_number,
        issue_date,
        year,
        source_format,
        file_id,
        order_number_norm,
        credited_document_number,
        line_count,
        goods_lines,
        cast(total_kr as decimal(18, 2)) as total_kr,
        cast(goods_spend_kr as decimal(18, 2)) as goods_spend_kr,
        cast(unclassified_spend_kr as decimal(18, 2)) as unclassified_spend_kr,
        -- METHODS 4: a purchase is an invoice (not a credit note) with at least one goods line
        document_type = 'invoice' and goods_lines > 0 as is_purchase
    from documents
)

select * from final
