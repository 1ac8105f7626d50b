"""ticketkit's tables as of Alembic revision ticketkit_0011, made by ticketkit's own
migrations on Django's connection; unapplied, none is left."""

from django.db import migrations

from ticketkit.web.django.schema import alembic_step


class Migration(migrations.Migration):  # type: ignore[misc]  # django is untyped
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [alembic_step("ticketkit_0011", previous=None)]
