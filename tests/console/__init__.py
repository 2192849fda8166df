"""The local console in Chromium through Playwright."""
