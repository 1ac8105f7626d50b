"""ticketkit's tickets carry their SLA due time (Alembic revision ticketkit_0013);
unapplied, back to ticketkit_0012."""

from django.db import migrations

from ticketkit.web.django.schema import alembic_step


class Migration(migrations.Migration):  # type: ignore[misc]  # django is untyped
    dependencies = [("ticketkit", "0002_sla")]
    operations = [alembic_step("ticketkit_0013", previous="ticketkit_0012")]
