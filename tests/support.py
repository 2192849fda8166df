"""Constants and helpers shared by the tests."""

from __future__ import annotations

from datetime import UTC, datetime

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
"""Every test starts at this frozen instant, well inside the campaign, never at today's date."""
CAMPAIGN_CLOSE = datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
"""2026-12-31T23:59:59+08:00, the contract's default, fixed here rather than read from the env."""

LANG_90 = "hunyuan-turbo"
LANG_90_B = "deepseek-v3"
LANG_30 = "hunyuan-lite-30d"
IMAGE = "hunyuan-image"
NO_TRIAL = "deepseek-r1-pro"
MILLION = 1_000_000
