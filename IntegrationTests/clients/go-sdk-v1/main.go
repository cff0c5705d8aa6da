// A probe with Debian 12's AWS SDK for Go v1: one S3 GetObject with the default credential chain.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/s3"
)

func main() {
	sess, err := session.NewSession(&aws.Config{
		Endpoint: aws.String(os.Args[1]), S3ForcePathStyle: aws.Bool(true), Region: aws.String("us-east-1"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "session:", err)
		os.Exit(2)
	}
	out, err := s3.New(sess).GetObject(&s3.GetObjectInput{Bucket: aws.String(os.Args[2]), Key: aws.String(os.Args[3])})
	if err != nil {
		fmt.Fprintln(os.Stderr, "GetObject:", err)
		os.Exit(1)
	}
	n, _ := io.Copy(io.Discard, out.Body)
	fmt.Printf("read %d bytes\n", n)
}
