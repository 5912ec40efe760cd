"""Attendance per user per local day, its CSV export, and the evidence bundle HR files."""
