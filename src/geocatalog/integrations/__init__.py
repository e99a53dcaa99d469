"""Glue between geocatalog and the pipekit framework (the only place geocatalog meets pipekit)."""
