# A probe with Debian 12's AWS SDK for Ruby (aws-sdk-core 3.168): one S3 GetObject, default chain.
require 'aws-sdk-s3'

endpoint, bucket, key = ARGV
s3 = Aws::S3::Client.new(region: 'us-east-1', endpoint: endpoint, force_path_style: true,
                         ssl_ca_bundle: ENV.fetch('AWS_CA_BUNDLE'))
body = s3.get_object(bucket: bucket, key: key).body.read
puts "read #{body.bytesize} bytes with #{s3.config.credentials.credentials.access_key_id}"
