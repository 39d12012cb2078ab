-- materialized: view
-- Grain: one row per copy of an order document, i.e. per
-- (kommunekode, supplier_cvr, order_number_norm, order_date) x delivered file (file_id).
-- The copies of int_order_file_copies (computed once per content) numbered across the current contents.
-- copy_number: the copy's file number (its file_id's rank) x 2^32 + its first record_number in the file (record
-- numbers are unique within a file): unique per copy, and the same in every run over the same files.
with files as (
    select file_id, row_number() over (order by file_id) as file_number
    from (select distinct file_id from intermediate.int_order_file_copies)
),

final as (
    select
        files.file_number * 4294967296 + copies.first_record as copy_number,
        copies.* exclude (first_record)
    from intermediate.int_order_file_copies as copies
    inner join files on copies.file_id = files.file_id
)

select * from final
