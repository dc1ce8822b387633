-- Current catalogue entry per product, plus products only seen in order lines (so every line has
-- a product row; their name is 'unknown' and is_in_catalogue is false).
with catalogue as (
    select product_id, product_name, category, brand, list_price, snapshot_date, true as is_in_catalogue
    from {{ ref('stg_crm__products') }}
),
orphans as (
    select distinct l.product_id, 'unknown', null, null, null::decimal(12, 2), null::date, false
    from {{ ref('stg_crm__order_lines') }} l
    where not exists (select 1 from catalogue c where c.product_id = l.product_id)
)
select
    product_id::varchar as product_id,
    product_name::varchar as product_name,
    category::varchar as category,
    brand::varchar as brand,
    list_price::decimal(12, 2) as list_price,
    is_in_catalogue::boolean as is_in_catalogue,
    snapshot_date::date as catalogue_as_of
from (select * from catalogue union all select * from orphans)
