"""Algorithm packages: one per algorithm (declaration, learner, registration)."""
