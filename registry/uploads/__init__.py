"""Bulk uploads: a member's monthly file streamed in, loaded with COPY and upserted in chunks."""
