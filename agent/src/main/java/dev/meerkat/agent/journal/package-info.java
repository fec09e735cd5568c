/**
 * The journal (SPEC §8), the durable buffer between sampling and MQTT: a segmented, append-only log
 * of readings on disk ({@link dev.meerkat.agent.journal.Journal}). Its invariants:
 *
 * <ol>
 *   <li><b>Written before sent; on the card before it matters.</b> {@code Journal.read} hands out
 *       only records whose bytes have been written to the file ({@code committedId}), so a crash
 *       of the agent (a {@code kill -9}, an out-of-memory kill) loses no reading: the kernel's page
 *       cache holds them. Forcing them to the card (fsync) guards against a power cut. With the
 *       sync window {@code syncInterval} at 0 a record is forced before it is handed out. With a
 *       window, the written records are forced once the oldest of them has waited the window,
 *       unless the broker has acknowledged every one of them by then: then there is nothing to
 *       keep, and no fsync. A power cut takes at most the readings of the last window that the
 *       broker had not acknowledged.
 *   <li><b>Group commit.</b> {@code append} never waits for the disk: records wait in memory at
 *       most {@code commitDelay} (or until 256 KiB gather), then one write (and with no window one
 *       fsync) commits all of them.
 *   <li><b>Order.</b> Ids grow by one across the journal, in append order; a sensor's readings are
 *       appended in {@code seq} order, so reading by id sends each sensor's readings in seq order.
 *   <li><b>Removed only when acknowledged or dropped.</b> Every sensor's unacknowledged ids are
 *       kept in memory (4 bytes a reading). {@code acknowledged(sensor, id)} acknowledges a
 *       sensor's readings up to an id, so one sensor's readings can be acknowledged ahead of
 *       another's (fair replay); the watermark {@code ackedId} is one below the oldest
 *       unacknowledged reading of any sensor, and a segment is deleted once all its records are
 *       at or below it. The bounds ({@code maxBytes}, {@code maxAge}) drop whole segments, oldest
 *       first, and every unacknowledged reading dropped is counted per sensor and reason. A write
 *       that fails (a full disk) drops its batch, counted the same way; the journal goes on.
 *   <li><b>Checked.</b> Every record carries a CRC-32C and a magic number (see {@link
 *       dev.meerkat.agent.journal.Codec}). Opening scans every segment: an intact record is kept,
 *       a damaged one is skipped to the next intact record and counted, a torn or zero-filled tail
 *       of the newest segment is cut off.
 *   <li><b>Seq survives, and is never reused.</b> The last {@code seq} of every sensor is recovered
 *       from the records and from the checkpoint record at the head of every segment, so a restart
 *       continues each sensor's numbering with no gap even when every reading was delivered. Seqs
 *       are reserved ahead in a small fsynced file ({@code seqs}); after damage, or after a power
 *       cut under a window ({@code run} says which boot the last run started in and whether it
 *       stopped), a sensor goes on past its reservation, and the gap is explained in the status.
 * </ol>
 *
 * The acknowledged watermark and each sensor's mark above it are also written to {@code acked}
 * every 30 seconds (and at a clean stop), not fsynced: after a crash at most the last 30 seconds'
 * acknowledged readings are sent again (the consumer tells them by their {@code seq}).
 */
package dev.meerkat.agent.journal;
