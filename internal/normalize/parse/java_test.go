package parse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJavaParser(t *testing.T) {
	p := &JavaParser{}
	require.Equal(t, "java", p.Name())
	appRun(t, p, []appCase{
		// Spring Boot 2 default console pattern
		{"boot2", "2024-01-15 10:30:45.123  INFO 12345 --- [           main] c.e.demo.DemoApplication                 : Started DemoApplication in 2.5 seconds (JVM running for 3.1)", &appWant{
			format: "java", level: "INFO", logger: "c.e.demo.DemoApplication", msg: "Started DemoApplication in 2.5 seconds (JVM running for 3.1)",
			time: "2024-01-15T10:30:45.123Z", local: true, extra: []string{"pid", "12345", "thread", "main"}}},
		{"boot2-error", "2024-01-15 10:30:46.001 ERROR 12345 --- [nio-8080-exec-1] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] threw exception", &appWant{
			format: "java", level: "ERROR", logger: "o.a.c.c.C.[.[.[/].[dispatcherServlet]", msg: "Servlet.service() for servlet [dispatcherServlet] threw exception",
			time: "2024-01-15T10:30:46.001Z", local: true, extra: []string{"pid", "12345", "thread", "nio-8080-exec-1"}}},
		// Spring Boot 3
		{"boot3-app", "2024-01-15T10:30:45.123+01:00  INFO 12345 --- [demo] [           main] c.e.demo.DemoApplication                 : Started DemoApplication in 2.5 seconds", &appWant{
			format: "java", level: "INFO", logger: "c.e.demo.DemoApplication", msg: "Started DemoApplication in 2.5 seconds",
			time: "2024-01-15T09:30:45.123Z", service: "demo", extra: []string{"pid", "12345", "thread", "main"}}},
		{"boot3-no-app", "2024-01-15T10:30:45.123Z  WARN 7 --- [           main] o.s.b.a.o.j.JpaBaseConfiguration         : spring.jpa.open-in-view is enabled", &appWant{
			format: "java", level: "WARN", logger: "o.s.b.a.o.j.JpaBaseConfiguration", msg: "spring.jpa.open-in-view is enabled",
			time: "2024-01-15T10:30:45.123Z", extra: []string{"pid", "7", "thread", "main"}}},
		{"boot3-correlation", "2024-01-15T10:30:45.123Z  INFO 7 --- [shop] [nio-8080-exec-1] [6a2f1a1e9e2c4f3d8f6e0b1a2c3d4e5f-1a2b3c4d5e6f7a8b] c.e.shop.OrderController : order placed", &appWant{
			format: "java", level: "INFO", logger: "c.e.shop.OrderController", msg: "order placed", time: "2024-01-15T10:30:45.123Z",
			service: "shop", traceID: "6a2f1a1e9e2c4f3d8f6e0b1a2c3d4e5f", spanID: "1a2b3c4d5e6f7a8b",
			extra: []string{"pid", "7", "thread", "nio-8080-exec-1"}}},
		{"boot3-blank-correlation-group", "2024-01-15T10:30:45.123Z DEBUG 7 --- [shop] [backend] [           main] [                                                 ] c.e.shop.App : hi", &appWant{
			format: "java", level: "DEBUG", logger: "c.e.shop.App", msg: "hi", time: "2024-01-15T10:30:45.123Z",
			service: "shop", extra: []string{"pid", "7", "app_group", "backend", "thread", "main"}}},
		// logback / log4j2 defaults
		{"logback-default", "10:30:45.123 [main] INFO  com.example.App - message", &appWant{
			format: "java", level: "INFO", logger: "com.example.App", msg: "message", extra: []string{"thread", "main"}}},
		{"logback-date", "2024-01-15 10:30:45.123 [main] ERROR com.example.App - message - with dash", &appWant{
			format: "java", level: "ERROR", logger: "com.example.App", msg: "message - with dash",
			time: "2024-01-15T10:30:45.123Z", local: true, extra: []string{"thread", "main"}}},
		{"logback-thread-with-space", "10:30:45,123 [RMI TCP Connection(2)-127.0.0.1] DEBUG sun.rmi.transport.tcp - accepted", &appWant{
			format: "java", level: "DEBUG", logger: "sun.rmi.transport.tcp", msg: "accepted", extra: []string{"thread", "RMI TCP Connection(2)-127.0.0.1"}}},
		{"log4j-level-thread", "2024-01-15 10:30:45,123 INFO  [main] com.example.App - message", &appWant{
			format: "java", level: "INFO", logger: "com.example.App", msg: "message",
			time: "2024-01-15T10:30:45.123Z", local: true, extra: []string{"thread", "main"}}},
		{"log4j-iso8601", "2024-01-15T10:30:45,123 [pool-1-thread-3] WARN  org.hibernate.SQL - slow", &appWant{
			format: "java", level: "WARN", logger: "org.hibernate.SQL", msg: "slow",
			time: "2024-01-15T10:30:45.123Z", local: true, extra: []string{"thread", "pool-1-thread-3"}}},
		{"log4j2-logger-thread", "2024-01-15 10:30:45,123 INFO c.e.App [main] started in 3s", &appWant{
			format: "java", level: "INFO", logger: "c.e.App", msg: "started in 3s",
			time: "2024-01-15T10:30:45.123Z", local: true, extra: []string{"thread", "main"}}},
		{"jul-severe", "2024-01-15 10:30:45,123 [main] SEVERE com.example.Legacy - oops", &appWant{
			format: "java", level: "SEVERE", logger: "com.example.Legacy", msg: "oops",
			time: "2024-01-15T10:30:45.123Z", local: true, extra: []string{"thread", "main"}}},
		{"boot2-no-pid", "2024-01-15 10:30:45.123  INFO --- [           main] c.e.demo.DemoApplication                 : Started", &appWant{
			format: "java", level: "INFO", logger: "c.e.demo.DemoApplication", msg: "Started",
			time: "2024-01-15T10:30:45.123Z", local: true, extra: []string{"thread", "main"}}},
		// Tomcat OneLineFormatter (java.util.logging)
		{"tomcat", "15-Jan-2024 10:30:45.123 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in [1234] milliseconds", &appWant{
			format: "java", level: "INFO", logger: "org.apache.catalina.startup.Catalina.start", msg: "Server startup in [1234] milliseconds",
			time: "2024-01-15T10:30:45.123Z", local: true, extra: []string{"thread", "main"}}},
		{"tomcat-severe", "05-Mar-2024 08:00:01.002 SEVERE [http-nio-8080-exec-3] org.apache.catalina.core.StandardWrapperValve.invoke Servlet.service() threw exception", &appWant{
			format: "java", level: "SEVERE", logger: "org.apache.catalina.core.StandardWrapperValve.invoke", msg: "Servlet.service() threw exception",
			time: "2024-03-05T08:00:01.002Z", local: true, extra: []string{"thread", "http-nio-8080-exec-3"}}},
		// Kafka / ZooKeeper "[%d] %p %m (%c)"
		{"kafka", "[2024-01-15 10:30:45,123] INFO [KafkaServer id=1] started (kafka.server.KafkaServer)", &appWant{
			format: "java", level: "INFO", logger: "kafka.server.KafkaServer", msg: "[KafkaServer id=1] started",
			time: "2024-01-15T10:30:45.123Z", local: true}},
		{"kafka-warn", "[2024-01-15 10:30:45,123] WARN Session 0x0 for server null, unexpected error (org.apache.zookeeper.ClientCnxn)", &appWant{
			format: "java", level: "WARN", logger: "org.apache.zookeeper.ClientCnxn", msg: "Session 0x0 for server null, unexpected error",
			time: "2024-01-15T10:30:45.123Z", local: true}},
		// Elasticsearch "[%d{ISO8601}][%-5p][%-25c{1.}] %m"
		{"elasticsearch", "[2024-01-15T10:30:45,123][INFO ][o.e.n.Node               ] [node-1] started", &appWant{
			format: "java", level: "INFO", logger: "o.e.n.Node", msg: "[node-1] started", time: "2024-01-15T10:30:45.123Z", local: true}},
		{"spark", "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers for [TERM, HUP, INT]", &appWant{
			format: "java", level: "INFO", logger: "executor.CoarseGrainedExecutorBackend", msg: "Registered signal handlers for [TERM, HUP, INT]",
			time: "2017-06-09T20:10:40Z", local: true}},
		{"hdfs", "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating", &appWant{
			format: "java", level: "INFO", logger: "dfs.DataNode$PacketResponder", msg: "PacketResponder 1 for block blk_38865049064139660 terminating",
			time: "2008-11-09T20:36:15Z", local: true, extra: []string{"pid", "148"}}},
		{"hadoop-thread-colon", "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster", &appWant{
			format: "java", level: "INFO", logger: "org.apache.hadoop.mapreduce.v2.app.MRAppMaster", msg: "Created MRAppMaster",
			time: "2015-10-18T18:01:47.978Z", local: true, extra: []string{"thread", "main"}}},
		{"zookeeper", "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200", &appWant{
			format: "java", level: "INFO", logger: "FastLeaderElection", msg: "Notification time out: 3200",
			time: "2015-07-29T17:41:44.747Z", local: true, extra: []string{"thread", "QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181"}}},
		// negatives
		{"spark-bad-date", "17/13/09 20:10:40 INFO executor.X: y", nil},
		{"spark-no-colon", "17/06/09 20:10:40 INFO executor.X y", nil},
		{"hdfs-bad-time", "081109 253615 148 INFO dfs.X: y", nil},
		{"zookeeper-unclosed", "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1 - x", nil},
		{"kafka-no-logger", "[2024-01-15 10:30:45,123] INFO started", nil},
		{"flask", "[2024-01-15 10:30:45,123] ERROR in app: Exception on /boom [GET]", nil},
		{"flask-paren", "[2024-01-15 10:30:45,123] ERROR in app: failed (app.views.index)", nil},
		{"tomcat-bad-month", "15-Foo-2024 10:30:45.123 INFO [main] a.b.C.m x", nil},
		{"python-bracket-level", "2024-01-15 10:30:45,123 [INFO] app: msg", nil},
		{"python-name", "2024-01-15 10:30:45,123 INFO [uvicorn] Started server", nil},
		{"no-sep", "10:30:45.123 [main] INFO  com.example.App message", nil},
		{"lower-level", "10:30:45.123 [main] info  com.example.App - message", nil},
		{"spring-no-bracket", "2024-01-15 10:30:45.123  INFO 12345 --- main c.e.App : x", nil},
		{"bad-time", "25:30:45.123 [main] INFO  com.example.App - message", nil},
		{"ts-level", "2024-01-15T10:30:45.123Z INFO starting worker", nil},
	})
	appCross(t, p, "java")
}
