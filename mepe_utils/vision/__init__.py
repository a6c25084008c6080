"""Real photos: decoding, face detection, cropping and FER-style preprocessing."""
