"""Import every model module so the metadata (and Alembic) sees all tables."""

from app.admin.models import Sanction  # noqa: F401
from app.audit.models import AuditEntry  # noqa: F401
from app.billing.models import BillingSubscription, StripeWebhookEvent  # noqa: F401
from app.booking.models import Booking, BookingEvent, Customer  # noqa: F401
from app.broadcasts.models import Broadcast, BroadcastRecipient  # noqa: F401
from app.catalog.models import DateOverride, Service, ServiceStaff, StaffMember, TimeOff, WorkingHours  # noqa: F401
from app.chat.models import Conversation, Inquiry, Message, Participant  # noqa: F401
from app.community.models import ContentReport, CustomerBlock, CustomerFavourite, Post, RecentlyViewed  # noqa: F401
from app.credits.models import CreditAccount, CreditEntry  # noqa: F401
from app.customers.models import CustomerNote, CustomerTag  # noqa: F401
from app.delivery.models import Delivery  # noqa: F401
from app.dispatch.models import DispatchOffer, DispatchOperator, DispatchProfile, DispatchRequest  # noqa: F401
from app.disputes.models import Dispute, DisputeEvidence  # noqa: F401
from app.identity.models import ApiToken, User  # noqa: F401
from app.identity.totp import AdminRecoveryCode, AdminTotp  # noqa: F401
from app.leads.models import JobRequest, Lead  # noqa: F401
from app.leads.questions_models import ComplexityTier, JobQuestion  # noqa: F401
from app.leads.routing_models import RoutingCandidate  # noqa: F401
from app.marketplace.models import MarketplaceListing  # noqa: F401
from app.metrics.models import BusinessDay, CityDay, PlatformDay, StaffDay  # noqa: F401
from app.notifications import center_models  # noqa: F401
from app.outbox.models import OutboxEvent  # noqa: F401
from app.payments.models import (  # noqa: F401
    BookingPayment,
    ConnectAccount,
    LedgerEntry,
    PaymentSettings,
    ServicePaymentRule,
    UncollectedFeeRecord,
)
from app.platform_settings import PlatformSetting  # noqa: F401
from app.reviews.models import Review  # noqa: F401
from app.tenants.models import Membership, Tenant, TenantDomain  # noqa: F401
from app.tenants.photos import BusinessPhoto  # noqa: F401
from app.verification.models import VerificationDocument  # noqa: F401
