-- asset: intermediate.int_invoice_lines
-- severity: ERROR
-- description: Hver fakturalinje står én gang og i præcis én afgrænsningsklasse: vare, ikke vare eller uklassificeret.
-- One row per (document_id, line_id) that is repeated or whose scope class is not exactly one known class.
with lines as (
    select document_id, line_id, kommunekode, year, scope_class from intermediate.int_invoice_lines
),

final as (
    select document_id, line_id, any_value(kommunekode) as kommunekode, any_value(year) as year,
           count(*) as rows, list(distinct scope_class) as scope_classes
    from lines
    group by document_id, line_id
    having count(*) <> 1
        or count(distinct scope_class) <> 1
        or bool_or(scope_class is null or scope_class not in ('goods', 'not_goods', 'unclassified'))
)

select * from final
