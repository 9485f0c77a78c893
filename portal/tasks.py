"""Celery tasks of the shell app."""

import socket

from celery import shared_task

from .models import HealthPing


@shared_task
def ping(note: str = "") -> int:
    """Write a row that proves a worker ran; return its id."""
    return HealthPing.objects.create(note=note, worker=socket.gethostname()).pk
