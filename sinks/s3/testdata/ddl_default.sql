CREATE EXTERNAL TABLE IF NOT EXISTS `security`.`logrouter_archive` (
  `ts` string,
  `message` string,
  `event` struct<dataset:string,kind:string,action:string,outcome:string,ingested:string>,
  `source` string,
  `destination` string,
  `host` string,
  `user` string,
  `process` string,
  `log` string,
  `logrouter` struct<input:string,protocol:string,peer:string,token:string,index:string,source:string,unconverted:map<string,string>>
)
PARTITIONED BY (
  `priority` string,
  `source_type` string,
  `dt` string,
  `hour` string
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'ignore.malformed.json'='true',
  'case.insensitive'='false',
  'mapping.ts'='@timestamp'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://acme-security-archive/logs/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.priority.type'='enum',
  'projection.priority.values'='P1,P2,P3',
  'projection.source_type.type'='injected',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.range'='1970-01-01,NOW+2DAYS',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'projection.hour.type'='integer',
  'projection.hour.range'='0,23',
  'projection.hour.digits'='2',
  'storage.location.template'='s3://acme-security-archive/logs/priority=${priority}/source_type=${source_type}/dt=${dt}/hour=${hour}/'
);
