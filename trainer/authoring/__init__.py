"""Instructors' own content: building and saving questions, exports (Moodle, Anki, CSV, region sheets) and the photo overlay."""
