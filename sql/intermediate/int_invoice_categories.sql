-- Grain: one row per (document_id, category) with at least one goods line of the category (METHODS 3, 4).
-- An invoice with goods lines in several categories has a row in each: it counts as a purchase once in
-- each category (and once in the total, which is counted from int_invoices). The document's attributes and
-- e-handel status are int_invoices' (int_category_cells and int_agreement_spend take them from the document
-- copies and the match tables).
-- One pass over the staged goods lines (METHODS 2 and 3: sql/macros.sql scope_class, art_category), totalled per
-- document key hash (document_hash, as in int_invoice_copy_totals) and category: for a document delivered
-- once whose line_ids are distinct and whose hash is its own, that is exactly its goods lines per category.
-- Every other document (int_invoice_special_lines) is counted from its kept lines (METHODS 1).
with category_names as (
    select category, row_number() over (order by category) as category_id
    from (
        select indkoebskategori as category from reference.unspsc_segmenter
        union
        select unnest(['Fødevarer', 'Brændstof og energi', 'Øvrige varer'])
    )
    where category is not null
),

-- METHODS 2 and 3 (sql/macros.sql scope_class, art_category): goods lines, the UNSPSC segment's category,
-- with no usable UNSPSC the goods art's.
arts as (
    select
        arts.art,
        arts.varekoeb,
        category_names.category_id
    from reference.kontoplan_arter as arts
    left join category_names
        on category_names.category = art_category(arts.art)
),

segments as (
    select segments.segment, segments.varekoeb, category_names.category_id
    from reference.unspsc_segmenter as segments
    left join category_names on segments.indkoebskategori = category_names.category
),

goods_lines as (
    select
        hash(lines.kommunekode, lines.supplier_cvr, lines.document_type, lines.document_number, lines.issue_date)
            as document_hash,
        coalesce(segments.category_id, arts.category_id) as category_id,
        lines.amount_kr
    from staging.stg_invoice_lines as lines
    left join arts on lines.art = arts.art
    left join segments on lines.unspsc_segment = segments.segment
    where scope_class(arts.art is not null, arts.varekoeb, segments.varekoeb) = 'goods'
),

hash_totals as (
    select
        document_hash,
        category_id,
        count(*) as goods_lines,
        sum(amount_kr) as goods_spend_kr
    from goods_lines
    group by document_hash, category_id
),

-- documents delivered once, with distinct line_ids and a hash of their own
plain_documents as (
    select document_hash, document_id
    from intermediate.int_invoice_document_copies
    where not hash_shared and line_ids_distinct
),

hashed_categories as (
    select
        plain_documents.document_id,
        category_names.category,
        hash_totals.goods_lines,
        cast(hash_totals.goods_spend_kr as decimal(18, 2)) as goods_spend_kr
    from hash_totals
    inner join plain_documents on hash_totals.document_hash = plain_documents.document_hash
    left join category_names on hash_totals.category_id = category_names.category_id
),

-- every other document, from the kept goods lines of its winning copy
kept_categories as (
    select
        document_id,
        category,
        count(*) as goods_lines,
        cast(sum(amount_kr) as decimal(18, 2)) as goods_spend_kr
    from intermediate.int_invoice_special_lines
    where is_kept and scope_class = 'goods'
    group by document_id, category
),

final as (
    select * from hashed_categories
    union all
    select * from kept_categories
)

select * from final
