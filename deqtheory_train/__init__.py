"""deqtheory_train — torch layers, solvers, certification and training (calls back into deqtheory)."""
