"""The host's own data, written beside ticketkit's in the same transaction."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import models


class Note(models.Model):
    """A row of the host's, written by the same views as ticketkit's tickets."""

    title = models.CharField(max_length=200)
    number = models.IntegerField(default=0)
    data = models.JSONField(default=dict)


class Staff(models.Model):
    """Which ticketkit person a Django user is: what ``person_for_user`` reads."""

    user = models.OneToOneField(User, on_delete=models.CASCADE)
    tenant_id = models.UUIDField()
    person_id = models.UUIDField()
