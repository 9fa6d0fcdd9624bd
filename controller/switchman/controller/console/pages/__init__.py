"""One module per group of pages; each exports ROUTES."""
