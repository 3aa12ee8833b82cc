"""Judge-free check: stylometric attribution by character n-grams.

Each author is the centroid of the TF-IDF vectors of their sample texts (character 2- to
4-grams within word boundaries, sublinear term frequency); a text is attributed to the author
whose centroid is nearest by cosine similarity.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize


class AuthorAttribution:
    def __init__(self, samples_by_author: dict[str, list[str]]):
        if len(samples_by_author) < 2:
            raise ValueError("attribution needs the samples of at least two authors")
        self.authors = sorted(samples_by_author)
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        texts = [text for author in self.authors for text in samples_by_author[author]]
        vectors = self.vectorizer.fit_transform(texts)
        owners = np.array([author for author in self.authors for _ in samples_by_author[author]])
        centroids = [np.asarray(vectors[owners == author].mean(axis=0)) for author in self.authors]
        self.centroids = normalize(np.vstack(centroids))

    def attribute(self, texts: list[str]) -> list[str]:
        """The nearest author of each text."""
        similarities = self.vectorizer.transform(texts) @ self.centroids.T
        return [self.authors[index] for index in np.asarray(similarities).argmax(axis=1)]

    def hits(self, texts: list[str], authors: list[str]) -> list[bool]:
        """Whether each text is attributed to its author."""
        return [found == author for found, author in zip(self.attribute(texts), authors, strict=True)] if texts else []

    def accuracy(self, texts: list[str], authors: list[str]) -> float | None:
        """Share of `texts` attributed to their author (None for no texts)."""
        return float(np.mean(self.hits(texts, authors))) if texts else None
