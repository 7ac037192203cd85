package cloudwatch

import (
	"context"
	"errors"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// class is how one failed API call is handled. Errors are classified here
// once; the SDK client runs with retries off and the sink.Worker is the
// only retry layer.
type class uint8

const (
	classOK        class = iota // success (or an obsolete sequence-token error)
	classNotFound               // ResourceNotFoundException: create group/stream, resend once
	classThrottled              // retry after backoff (sink.Throttled)
	classRetryable              // retry with backoff
	classPermanent              // refused for good: dead-letter the call's records
)

// Reason labels of refused records (dead-letter reason, Stats).
const (
	ReasonTooOld           = "too_old"
	ReasonTooNew           = "too_new"
	ReasonExpired          = "expired"
	ReasonInvalidParameter = "invalid_parameter"
	ReasonLimitExceeded    = "limit_exceeded"
	ReasonGroupMissing     = "log_group_missing"
	ReasonRefused          = "refused"
)

var throttleCodes = map[string]bool{
	"ThrottlingException": true, "Throttling": true, "TooManyRequestsException": true,
	"RequestLimitExceeded": true, "RequestThrottled": true, "RequestThrottledException": true,
	"SlowDown": true, "ProvisionedThroughputExceededException": true, "BandwidthLimitExceeded": true,
	"PriorRequestNotComplete": true, "EC2ThrottledException": true,
}

var retryCodes = map[string]bool{
	"ServiceUnavailableException": true, "ServiceUnavailable": true, "InternalFailure": true,
	"InternalServerError": true, "InternalServerException": true, "RequestTimeout": true,
	"RequestTimeoutException": true, "ConflictException": true, "OperationAbortedException": true,
	// Credentials and permissions: the operator (or the next credential
	// refresh) fixes these; retrying keeps the records queued instead of
	// dead-lettering everything during an IAM or key rotation glitch.
	"AccessDeniedException": true, "AccessDenied": true, "UnrecognizedClientException": true,
	"ExpiredTokenException": true, "ExpiredToken": true, "InvalidSignatureException": true,
	"IncompleteSignature": true, "MissingAuthenticationTokenException": true, "MissingAuthenticationToken": true,
	"InvalidClientTokenId": true, "SignatureDoesNotMatch": true, "RequestExpired": true,
	"RequestTimeTooSkewed": true,
}

// classify maps an API error to its class and, for permanent errors, the
// reason label.
func classify(err error) (class, string) {
	if err == nil {
		return classOK, ""
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return classRetryable, ""
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		switch {
		case code == "ResourceNotFoundException":
			return classNotFound, ""
		case code == "DataAlreadyAcceptedException" || code == "InvalidSequenceTokenException":
			// Never returned since 2023-01 (sequence tokens are ignored);
			// the events are in CloudWatch.
			return classOK, ""
		case throttleCodes[code]:
			return classThrottled, ""
		case retryCodes[code]:
			return classRetryable, ""
		case code == "InvalidParameterException" || code == "ValidationException" || code == "SerializationException":
			return classPermanent, ReasonInvalidParameter
		case code == "LimitExceededException" || code == "ServiceQuotaExceededException":
			return classPermanent, ReasonLimitExceeded
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch st := re.HTTPStatusCode(); {
		case st == 429:
			return classThrottled, ""
		case st == 408 || st >= 500:
			return classRetryable, ""
		case st >= 400:
			return classPermanent, ReasonRefused
		}
	}
	// Connection errors, timeouts, credential retrieval, anything else.
	return classRetryable, ""
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
