// A probe with Debian 12's AWS SDK for Go v2: one S3 GetObject with the default credential chain.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		os.Exit(2)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.EndpointResolver = s3.EndpointResolverFromURL(os.Args[1])
		o.UsePathStyle = true
	})
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(os.Args[2]), Key: aws.String(os.Args[3])})
	if err != nil {
		fmt.Fprintln(os.Stderr, "GetObject:", err)
		os.Exit(1)
	}
	n, _ := io.Copy(io.Discard, out.Body)
	fmt.Printf("read %d bytes\n", n)
}
