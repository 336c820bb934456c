"""Practice: FSRS schedules, quiz attempts, the queue, mock interviews and progress.

The scheduling module imports only the models and ``fsrs`` (the grading service rates a
graded submission through it); the pages and their blueprint live in app/practice/web.py.
"""
