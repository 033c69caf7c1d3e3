"""A learner's progress: recording answers with their review cards, the review queue, mastery and direction bias."""
