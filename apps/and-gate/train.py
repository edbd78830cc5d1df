"""Train the AND-gate Keras model and save it as a SavedModel for TF Serving.

    pip install tensorflow && python apps/and-gate/train.py

Writes apps/and-gate/model/ (saved_model.pb + variables/), the build context of the model image
(ModelImage copies it to /models/and-gate/<version>; TF Serving needs the integer version directory,
which the image provides, so the classic MODEL_NAME=<timestamp> trick is not needed).
"""
import os

import numpy as np
import tensorflow as tf

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model")

x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
y = np.array([[0], [0], [0], [1]], dtype=np.float32)

model = tf.keras.Sequential([
    tf.keras.Input(shape=(2,)),
    tf.keras.layers.Dense(4, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=300, verbose=0)
print("predictions:", model.predict(x, verbose=0).round(3).ravel().tolist())
model.export(OUT)  # Keras 3; on Keras 2 use tf.saved_model.save(model, OUT)
print("SavedModel written to", OUT)
