#!/usr/bin/env python3
"""Make the real Keras 3 files in tests/keras_files/ once, with Keras' outputs beside them.

Each model is built in Keras, its weights drawn from a fixed seed (biases too, so that every bias path is tried),
saved with ``model.save("NAME.keras")`` and, for some, ``model.save_weights("NAME.weights.h5")``, and run on a fixed
input. ``NAME.npz`` holds what Keras computed, so tests/test_keras_files.py compares gatescope with Keras with no
Keras installed:

    input   the model's input (numbers, or a text model's text as a 0-d string); the encoder/decoder's: source, x
    x       the recurrent group's input sequence (T, I): after the embedding or the front end (the lower layer's input
            where two are stacked)
    rnn     the recurrent group's output sequence (T, directions*hidden) as Keras' layer returned it, or its last step
            (directions*hidden,) for a layer with return_sequences=False
    out     the model's outputs (T, outputs), or (outputs,) for a model that reads the last step
    h0, c0  the group's initial state, where Keras gave it one (the decoder: the encoder's last state; encoder: its output)
    rnn_0   (stacked model) the lower layer's output, which a weights-only file loads as a group of its own

StringLookup and TextVectorization need TensorFlow, so the script runs where TensorFlow and Keras are installed,
never in the project's venv (keras is no dependency of gatescope):

    python3 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu==2.21.0 keras==3.15.1
    KERAS_BACKEND=tensorflow /tmp/tfenv/bin/python tests/make_keras_files.py

Made with keras 3.15.1, tensorflow-cpu 2.21.0, numpy 2.4.6, h5py 3.16.0 (Python 3.11.7).
"""

import os
import zipfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import warnings  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_files")
CHARS = list("abcdefgh ")
TEXT = "bad cafe head"
WORDS = ["the cat sat", "the dog ran far", "a cat ran"]


def randomize(model, seed):
    """Every weight from one generator, biases included (Keras starts them at 0 or 1, which would hide a wrong bias)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.uniform(-0.8, 0.8, w.shape).astype("float32"))


def taps(model, rec, x):
    """Keras' input and output sequences of the recurrent layer ``rec`` inside ``model``, on ``x``."""
    src = rec.input[0] if isinstance(rec.input, (list, tuple)) else rec.input  # behind a Masking: [input, mask]
    got = keras.Model(model.inputs, [src, rec.output])(x)
    return [keras.ops.convert_to_numpy(t)[0] for t in got]


def save(name, model, x, rec, weights_only=False, **extra):
    """NAME.keras (and NAME.weights.h5), and NAME.npz of Keras' numbers around the recurrent layer ``rec``."""
    model.save(os.path.join(OUT, f"{name}.keras"))
    if weights_only:
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
    xin, rnn = taps(model, rec, x)
    out = keras.ops.convert_to_numpy(model(x))[0]
    shown = np.array(" ".join(x.ravel()) if x.shape[-1] == 1 else "".join(x.ravel())) if x.dtype.kind in "OSU" else x[0]
    np.savez(os.path.join(OUT, f"{name}.npz"), input=shown, x=xin, rnn=rnn, out=out, **extra)


def built(*body, inputs, seed):
    """A Sequential of ``body`` on keras.Input(**inputs), every weight drawn from ``seed``."""
    m = keras.Sequential([keras.Input(**inputs), *body])
    randomize(m, seed)
    return m


def numbers(T, width, seed):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, (1, T, width)).astype("float32")


def char_lstm():
    """Characters through a StringLookup (its vocabulary in config.json), Embedding, LSTM, Dense softmax: a language model."""
    rec = layers.LSTM(5, return_sequences=True)
    m = built(layers.StringLookup(vocabulary=CHARS), layers.Embedding(len(CHARS) + 1, 4), rec,
              layers.Dense(len(CHARS) + 1, activation="softmax"), inputs=dict(shape=(None,), dtype="string"), seed=1)
    save("char_lstm", m, np.array([list(TEXT)]), rec, weights_only=True)


def words_gru():
    """Words through an adapted TextVectorization (its vocabulary in the archive's assets), a GRU classifier (reset_after)."""
    tv, rec = layers.TextVectorization(max_tokens=20), layers.GRU(4)
    tv.adapt(WORDS)
    m = built(tv, layers.Embedding(len(tv.get_vocabulary()), 3), rec, layers.Dense(2), inputs=dict(shape=(1,), dtype="string"), seed=2)
    save("words_gru", m, np.array([["the cat ran far"]]), rec)


def gru_reset_before():
    """A classifier reading the last step, with Cho et al.'s GRU (reset before the matmul, one bias)."""
    rec = layers.GRU(4, reset_after=False)
    m = built(rec, layers.Dense(3, activation="softmax"), inputs=dict(shape=(None, 3)), seed=3)
    save("gru_reset_before", m, numbers(7, 3, 3), rec, weights_only=True)


def bigru():
    rec = layers.Bidirectional(layers.GRU(3, return_sequences=True))
    m = built(rec, layers.TimeDistributed(layers.Dense(2)), inputs=dict(shape=(None, 3)), seed=4)
    save("bigru", m, numbers(6, 3, 4), rec, weights_only=True)


def stacked_lstm():
    """Two LSTMs, one group of 2 layers: x is the lower one's input, rnn the upper one's output, rnn_0 the lower one's."""
    low, rec = layers.LSTM(4, return_sequences=True), layers.LSTM(4, return_sequences=True)
    m = built(low, layers.Dropout(0.3), rec, layers.Dense(1), inputs=dict(shape=(None, 2)), seed=5)
    x = numbers(8, 2, 5)
    save("stacked_lstm", m, x, rec, weights_only=True, rnn_0=taps(m, low, x)[1])
    with np.load(os.path.join(OUT, "stacked_lstm.npz")) as z:
        kept = {**z, "x": x[0]}
    np.savez(os.path.join(OUT, "stacked_lstm.npz"), **kept)


def simple_rnn():
    rec = layers.SimpleRNN(4, activation="relu", return_sequences=True)
    m = built(rec, layers.Dense(2), inputs=dict(shape=(None, 2)), seed=6)
    save("simple_rnn", m, numbers(9, 2, 6), rec, weights_only=True)


def masked_lstm():
    """Masking and Dropout passed over: no step of the input is all zeros, so Masking skips none, as gatescope does."""
    rec = layers.LSTM(3, return_sequences=True)
    m = built(layers.Masking(0.0), layers.Dropout(0.2), rec, layers.Dropout(0.2), layers.Dense(2), inputs=dict(shape=(None, 3)), seed=7)
    save("masked_lstm", m, numbers(6, 3, 7), rec)


def conv_lstm():
    """A front end no kind computes: ``x`` is the Conv1D's output, which a user feeds the LSTM read alone."""
    rec = layers.LSTM(5, return_sequences=True)
    m = built(layers.Conv1D(4, 3, padding="causal"), rec, layers.Dense(2), inputs=dict(shape=(None, 3)), seed=9)
    save("conv_lstm", m, numbers(7, 3, 9), rec)


def main():
    warnings.filterwarnings("ignore", message="The structure of `inputs`")  # a Sequential called on a bare array
    os.makedirs(OUT, exist_ok=True)
    for make in (char_lstm, words_gru, gru_reset_before, bigru, stacked_lstm, simple_rnn, masked_lstm, encoder_decoder, conv_lstm):
        keras.backend.clear_session()  # layer names as a user's first model has them: lstm, dense, ...
        keras.utils.set_random_seed(0)
        make()
    report()


def encoder_decoder():
    """Two recurrent groups (Functional): an encoder GRU whose last state starts a decoder LSTM (h0 = c0 = that state)."""
    source, target = keras.Input((None, 3), name="source"), keras.Input((None, 2), name="target")
    encoder, decoder = layers.GRU(4, return_state=True, name="encoder"), layers.LSTM(4, return_sequences=True, name="decoder")
    enc_seq, state = encoder(source)
    dec_seq = decoder(target, initial_state=[state, state])
    m = keras.Model([source, target], layers.Dense(5, activation="softmax", name="head")(dec_seq))
    randomize(m, 8)
    xs = [numbers(5, 3, 10), numbers(6, 2, 11)]
    got = [keras.ops.convert_to_numpy(t)[0] for t in keras.Model(m.inputs, [enc_seq, state, dec_seq, m.output])(xs)]
    m.save(os.path.join(OUT, "encoder_decoder.keras"))
    m.save_weights(os.path.join(OUT, "encoder_decoder.weights.h5"))
    np.savez(os.path.join(OUT, "encoder_decoder.npz"), source=xs[0][0], encoder=got[0], h0=got[1], c0=got[1],
             x=xs[1][0], rnn=got[2], out=got[3])


def report():
    total = 0
    for f in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, f))
        total += size
        what = ", ".join(zipfile.ZipFile(os.path.join(OUT, f)).namelist()) if f.endswith(".keras") else ""
        print(f"{f:32s} {size:7d}  {what}")
    print(f"{'total':32s} {total:7d}")


if __name__ == "__main__":
    main()
