package dev.forkless;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

/**
 * The classic-stream and channel faces of a {@link PipeEnd}. Both faces of one end share it:
 * bytes read through one are not seen by the other, and closing either closes the pipe.
 */
final class PipeStreams {
    private PipeStreams() {
    }

    static final class In extends InputStream {
        private final PipeEnd end;

        In(PipeEnd end) {
            this.end = end;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = end.read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            return end.read(b, off, len);
        }

        @Override
        public int available() throws IOException {
            return end.available();
        }

        @Override
        public void close() {
            end.close();
        }

        @Override
        public String toString() {
            return "InputStream[" + end + "]";
        }
    }

    static final class Out extends OutputStream {
        private final PipeEnd end;

        Out(PipeEnd end) {
            this.end = end;
        }

        @Override
        public void write(int b) throws IOException {
            end.write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            end.write(b, off, len);
        }

        @Override
        public void close() {
            end.close();
        }

        @Override
        public String toString() {
            return "OutputStream[" + end + "]";
        }
    }

    static final class Source implements ReadableByteChannel {
        private final PipeEnd end;

        Source(PipeEnd end) {
            this.end = end;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (end.isClosed()) {
                throw new ClosedChannelException();
            }
            return end.read(dst);
        }

        @Override
        public boolean isOpen() {
            return !end.isClosed();
        }

        @Override
        public void close() {
            end.close();
        }

        @Override
        public String toString() {
            return "ReadableByteChannel[" + end + "]";
        }
    }

    static final class Sink implements WritableByteChannel {
        private final PipeEnd end;

        Sink(PipeEnd end) {
            this.end = end;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (end.isClosed()) {
                throw new ClosedChannelException();
            }
            return end.write(src);
        }

        @Override
        public boolean isOpen() {
            return !end.isClosed();
        }

        @Override
        public void close() {
            end.close();
        }

        @Override
        public String toString() {
            return "WritableByteChannel[" + end + "]";
        }
    }
}
