-- materialized: view
-- Grain: one row per staged invoice / credit-note line (staging.stg_invoice_lines), with its scope class and
-- category: METHODS 2 (a known art decides; else a goods UNSPSC segment makes the line goods; else it is
-- unclassified; sql/macros.sql scope_class) and METHODS 3 (the UNSPSC segment's category; with no usable
-- UNSPSC, the goods art's; art_category). The one place the lines meet the reference tables: every pass over
-- the lines reads them from here (a view: DuckDB folds it into each reader's query).
with arts as (
    select art, varekoeb from reference.kontoplan_arter
),

segments as (
    select segment, indkoebskategori, varekoeb from reference.unspsc_segmenter
),

final as (
    select
        lines.*,
        scope_class(arts.art is not null, arts.varekoeb, segments.varekoeb) as scope_class,
        coalesce(segments.indkoebskategori, art_category(arts.art)) as category
    from staging.stg_invoice_lines as lines
    left join arts on lines.art = arts.art
    left join segments on lines.unspsc_segment = segments.segment
)

select * from final
