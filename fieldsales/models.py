"""Every model, imported once so that Base.metadata knows all tables (Alembic, tests)."""
from fieldsales.approvals.models import Approval, AttendanceCorrection  # noqa: F401
from fieldsales.alerts.models import RaisedAlert  # noqa: F401
from fieldsales.attendance.models import ix_visits_attendance  # noqa: F401
from fieldsales.audit.models import AuditEntry, AuditHead  # noqa: F401
from fieldsales.auth.models import LoginThrottle, RefreshToken  # noqa: F401
from fieldsales.customers.models import Contact, ContactRecord, Customer  # noqa: F401
from fieldsales.db import Base  # noqa: F401
from fieldsales.duplicates.models import PartyKey  # noqa: F401
from fieldsales.leads.models import (Lead, LeadCooldown, LeadDailyClaims, LeadEvent,  # noqa: F401
                                     LeadFollowUp, LeadHolding, LeadPool)
from fieldsales.maps.models import visits_in_at_in_geom  # noqa: F401
from fieldsales.orgs.models import Org  # noqa: F401
from fieldsales.photos.models import Photo  # noqa: F401
from fieldsales.contracts.models import Contract, Payment, PaymentPlan  # noqa: F401
from fieldsales.plans.models import Plan  # noqa: F401
from fieldsales.projects.models import Project, ProjectStageEvent  # noqa: F401
from fieldsales.reports.models import DailyReport  # noqa: F401
from fieldsales.targets.models import Target, UserTeamSpell  # noqa: F401
from fieldsales.teams.models import Team  # noqa: F401
from fieldsales.users.models import User  # noqa: F401
from fieldsales.visits.models import Visit  # noqa: F401
from fieldsales.webhooks.models import Webhook, WebhookDelivery  # noqa: F401
