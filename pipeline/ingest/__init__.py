"""Ingestion: turn inputs (inbox files, later feeds) into raw records or quarantine records."""
