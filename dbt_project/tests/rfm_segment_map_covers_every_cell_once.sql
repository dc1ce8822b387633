-- Every one of the 25 (r_score, f_score) cells maps to exactly one segment.
with cells as (
    select r.r as r_score, f.f as f_score from range(1, 6) r(r), range(1, 6) f(f)
)
select c.r_score, c.f_score, count(m.segment) as mapped
from cells c left join {{ ref('rfm_segment_map') }} m on m.r_score = c.r_score and m.f_score = c.f_score
group by all having count(m.segment) <> 1
