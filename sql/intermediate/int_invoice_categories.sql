-- materialized: incremental by kommunekode
-- Grain: one row per (document_id, category) with at least one goods line of the category (METHODS 3, 4).
-- An invoice with goods lines in several categories has a row in each: it counts as a purchase once in
-- each category (and once in the total, which is counted from int_invoices). The document's attributes and
-- e-handel status are int_invoices' (int_category_cells and int_agreement_spend take them from the document
-- copies and the match tables).
-- The goods lines per content, document key hash and category come from int_invoice_file_categories (computed
-- once per content). A document delivered once whose line_ids are distinct and whose hash is its own has all
-- its lines in one content under that hash (unique in its municipality, int_invoice_copy_ranks): its rows there
-- are exactly its goods lines per category. Every other document (int_invoice_special_lines) is counted from its
-- kept lines (METHODS 1). kommunekode: the document's, whose deliveries alone decide its rows.
with plain_documents as (
    select kommunekode, document_hash, document_id
    from intermediate.int_invoice_document_copies
    where not hash_shared and line_ids_distinct and in_changed_units(kommunekode)
),

hashed_categories as (
    select
        plain_documents.document_id,
        plain_documents.kommunekode,
        file_categories.category,
        file_categories.goods_lines,
        file_categories.goods_spend_kr
    from (select * from intermediate.int_invoice_file_categories where in_changed_units(kommunekode))
        as file_categories
    inner join plain_documents
        on file_categories.kommunekode = plain_documents.kommunekode
        and file_categories.document_hash = plain_documents.document_hash
),

-- every other document, from the kept goods lines of its winning copy
kept_categories as (
    select
        document_id,
        kommunekode,
        category,
        count(*) as goods_lines,
        cast(sum(amount_kr) as decimal(18, 2)) as goods_spend_kr
    from intermediate.int_invoice_special_lines
    where is_kept and scope_class = 'goods' and in_changed_units(kommunekode)
    group by document_id, kommunekode, category
),

final as (
    select * from hashed_categories
    union all
    select * from kept_categories
)

select * from final
