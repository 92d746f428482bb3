"""`habaux reproduce`: one of the paper's ablations end to end. It drives generate, train and eval,
so it sits above all three; nothing below imports it."""
