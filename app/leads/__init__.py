"""Job requests and leads (issue 13, seed 002): a customer describes a job, the platform routes
it to the best-matched providers nearby, providers spend credits to claim it and quote a price
range, the customer confirms one and it becomes a booking.

:mod:`app.leads.models` holds the customer's ``job_request`` (platform table) and the providers'
``lead`` rows (tenant table, a snapshot of what each provider may see).
"""

from app.leads.models import (
    CLAIM_HOLDING,
    JobRequest,
    JobRequestStatus,
    Lead,
    LeadStatus,
    RoutingTier,
    TimingKind,
)

__all__ = ["CLAIM_HOLDING", "JobRequest", "JobRequestStatus", "Lead", "LeadStatus", "RoutingTier", "TimingKind"]
