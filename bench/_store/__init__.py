"""bench/store: the store filled with copies of the examples for many patients, timed at each size."""
