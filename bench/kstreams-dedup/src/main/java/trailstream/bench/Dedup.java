package trailstream.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * What a JVM team would run instead of trailstream's enricher dedup: Kafka Streams, exactly-once
 * (exactly_once_v2), one stream thread, a persistent RocksDB store with its changelog. A record
 * whose key was seen before is dropped; the first is written to the output unchanged. The raw
 * topic is keyed by `account:eventID` (the ingester's key), so every copy meets in one task and no
 * repartition is needed; the key is used as it is (the enricher parses and validates every record
 * instead, and enriches it: the Streams side does less work per record). No expiry: the bench's
 * records all fall in one window, and a punctuator deleting old keys would only cost it more.
 *
 * Prints one JSON line: records, seconds and records/s from the first RUNNING state to the group's
 * committed offsets reaching the input's end offsets (read at start), the JVM's CPU time per record
 * over the same span (every thread: stream thread, producer, RocksDB, collector, compiler), keys in
 * the store, and the RocksDB bytes on disk per key after close.
 *
 * java -cp 'target/kstreams-dedup-1.jar:target/lib/*' trailstream.bench.Dedup BOOTSTRAP INPUT OUTPUT APP_ID STATE_DIR
 */
public final class Dedup {
  static final String STORE = "seen";

  static final class FirstOnly implements Processor<Bytes, byte[], Bytes, byte[]> {
    private ProcessorContext<Bytes, byte[]> context;
    private KeyValueStore<Bytes, Long> seen;

    @Override
    public void init(ProcessorContext<Bytes, byte[]> context) {
      this.context = context;
      this.seen = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<Bytes, byte[]> record) {
      if (record.key() == null) return;
      if (seen.putIfAbsent(record.key(), record.timestamp()) == null) context.forward(record);
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 5) throw new IllegalArgumentException("usage: BOOTSTRAP INPUT OUTPUT APP_ID STATE_DIR");
    String bootstrap = args[0], input = args[1], output = args[2], appId = args[3];
    Path stateDir = Path.of(args[4]);

    Topology topology = new Topology();
    topology.addSource("raw", Serdes.Bytes().deserializer(), Serdes.ByteArray().deserializer(), input);
    topology.addProcessor("dedup", FirstOnly::new, "raw");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.Bytes(), Serdes.Long())
            .withCachingDisabled(),
        "dedup");
    topology.addSink("events", output, Serdes.Bytes().serializer(), Serdes.ByteArray().serializer(), "dedup");

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      var partitions = admin.describeTopics(List.of(input)).allTopicNames().get().get(input).partitions();
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (var p : partitions) latest.put(new TopicPartition(input, p.partition()), OffsetSpec.latest());
      Map<TopicPartition, Long> end = admin.listOffsets(latest).all().get().entrySet().stream()
          .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
      long records = end.values().stream().mapToLong(Long::longValue).sum();

      KafkaStreams streams = new KafkaStreams(topology, props);
      CountDownLatch running = new CountDownLatch(1);
      streams.setStateListener((now, before) -> {
        if (now == KafkaStreams.State.RUNNING) running.countDown();
      });
      streams.start();
      if (!running.await(120, TimeUnit.SECONDS)) throw new IllegalStateException("never RUNNING");
      var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      long cpuStarted = os.getProcessCpuTime();
      long started = System.nanoTime();
      long deadline = started + TimeUnit.SECONDS.toNanos(900);
      while (true) {
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin.listConsumerGroupOffsets(appId).partitionsToOffsetAndMetadata().get();
        boolean done = end.entrySet().stream().allMatch(e -> {
          OffsetAndMetadata c = committed.get(e.getKey());
          return c != null ? c.offset() >= e.getValue() : e.getValue() == 0;
        });
        if (done) break;
        if (System.nanoTime() > deadline) throw new IllegalStateException("did not catch up within 900 s");
        Thread.sleep(50);
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      double cpuMicrosPerRecord = records > 0 ? (os.getProcessCpuTime() - cpuStarted) / 1e3 / records : 0.0;
      long keys = streams.store(
              org.apache.kafka.streams.StoreQueryParameters.fromNameAndType(
                  STORE, org.apache.kafka.streams.state.QueryableStoreTypes.<Bytes, Long>keyValueStore()))
          .approximateNumEntries();
      streams.close(Duration.ofSeconds(60));
      long rocksdbBytes;
      try (var files = Files.walk(stateDir)) {
        rocksdbBytes = files.filter(Files::isRegularFile)
            .filter(f -> f.toString().contains("rocksdb"))
            .mapToLong(f -> f.toFile().length()).sum();
      }
      System.out.printf(
          "{\"records\":%d,\"seconds\":%.3f,\"recordsPerSecond\":%.0f,\"cpuMicrosPerRecord\":%.2f,\"keys\":%d,\"rocksdbBytesPerKey\":%.1f}%n",
          records, seconds, records / seconds, cpuMicrosPerRecord, keys, keys > 0 ? (double) rocksdbBytes / keys : 0.0);
    }
  }
}
