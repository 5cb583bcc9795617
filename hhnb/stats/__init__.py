"""Weighted statistics below every stage that needs them: ROC, AUC, significance, bootstrap (plain NumPy)."""
