"""ticketkit's directory indexes for big tenants: organisations by parent (only those with
one) and by kind, people by role (Alembic revision ticketkit_0014); unapplied, back to
ticketkit_0013."""

from django.db import migrations

from ticketkit.web.django.schema import alembic_step


class Migration(migrations.Migration):  # type: ignore[misc]  # django is untyped
    dependencies = [("ticketkit", "0003_ticket_sla_due")]
    operations = [alembic_step("ticketkit_0014", previous="ticketkit_0013")]
