"""Voice enrolment: the person's own examples of the words, stored, reported and recorded."""
