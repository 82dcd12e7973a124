"""Ruilkring: software for local exchange circles (ruilkringen, LETS, time banks)."""

from ruilkring.celery import app as celery_app

__all__ = ("celery_app",)
