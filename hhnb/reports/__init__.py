"""One ``make()`` per notebook: parameters in, a typed report (tables and Figures) out; the notebooks display it."""
