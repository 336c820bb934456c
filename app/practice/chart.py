"""Layout of the 30-day chart of reviews and passes, for an inline SVG template."""

from __future__ import annotations

from datetime import date


def layout(days: list[tuple[date, int, int]], width: int = 640, height: int = 160) -> dict:
    top = max([max(r, p) for _, r, p in days] + [1])
    slot = width / max(len(days), 1)
    bar = max(slot / 2 - 1, 1)
    scale = (height - 20) / top
    bars = []
    for index, (day, reviews, passes) in enumerate(days):
        x = round(index * slot, 1)
        bars.append(
            {
                "day": day.isoformat(),
                "x_reviews": x,
                "x_passes": round(x + bar, 1),
                "h_reviews": round(reviews * scale, 1),
                "h_passes": round(passes * scale, 1),
                "reviews": reviews,
                "passes": passes,
            }
        )
    return {"width": width, "height": height, "bar": round(bar, 1), "top": top, "bars": bars}
