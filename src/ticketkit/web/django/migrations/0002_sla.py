"""ticketkit's SLA tables (Alembic revision ticketkit_0012): calendars, policies, each
ticket's clocks, firings and deferred actions; unapplied, back to ticketkit_0011."""

from django.db import migrations

from ticketkit.web.django.schema import alembic_step


class Migration(migrations.Migration):  # type: ignore[misc]  # django is untyped
    dependencies = [("ticketkit", "0001_initial")]
    operations = [alembic_step("ticketkit_0012", previous="ticketkit_0011")]
