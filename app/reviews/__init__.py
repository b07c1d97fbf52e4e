"""Verified reviews of a visit: ratings (overall and per dimension), text, the business's reply,
and exact aggregates per business."""
