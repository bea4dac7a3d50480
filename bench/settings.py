"""Benchmark-only settings: the production settings plus the baseline views of ``bench``.

Only the benchmark's gunicorn processes use this module (DJANGO_SETTINGS_MODULE); the
production URLconf and INSTALLED_APPS never see the baseline endpoints.
"""

from config.settings import *  # noqa: F403 - the very same settings, plus two lines
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.baseline"]
ROOT_URLCONF = "bench.urls"
