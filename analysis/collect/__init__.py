"""Data collection: blank and filled workbooks from the codebook (:mod:`.template`) and the seeded
synthetic sample (:mod:`.sample`).
"""
