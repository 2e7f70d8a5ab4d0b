"""Hand-written documents, valid per NCMEC's XSD unless named otherwise.

Written out by hand on purpose: the console's document builder is the thing under suspicion, so the
simulator's tests must not lean on it.
"""

from __future__ import annotations

CSAM = "Child Pornography (possession, manufacture, and distribution)"

MINIMAL_REPORT = (
    "<report><incidentSummary><incidentType>" + CSAM + "</incidentType>"
    "<incidentDateTime>2026-11-20T08:00:00Z</incidentDateTime></incidentSummary>"
    "<reporter><reportingPerson><firstName>A</firstName><lastName>B</lastName><email>a@example.org</email>"
    "</reportingPerson></reporter></report>"
).encode()

# The recorded schema failure: reporter before incidentSummary.
REPORTER_FIRST = (
    "<report><reporter><reportingPerson><firstName>A</firstName><lastName>B</lastName>"
    "<email>a@example.org</email></reportingPerson></reporter>"
    "<incidentSummary><incidentType>" + CSAM + "</incidentType>"
    "<incidentDateTime>2026-11-20T08:00:00Z</incidentDateTime></incidentSummary></report>"
).encode()

FULL_REPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<report>
  <incidentSummary>
    <incidentType>Online Enticement of Children for Sexual Acts</incidentType>
    <platform>Example Chat</platform>
    <escalateToHighPriority>Ongoing contact with a child</escalateToHighPriority>
    <reportAnnotations><sextortion/><minorToMinorInteraction>true</minorToMinorInteraction></reportAnnotations>
    <incidentDateTime>2026-11-20T08:00:00Z</incidentDateTime>
    <incidentDateTimeDescription>When the user report came in</incidentDateTimeDescription>
  </incidentSummary>
  <internetDetails><webPageIncident><url>https://example.test/p/123</url></webPageIncident></internetDetails>
  <internetDetails>
    <chatImIncident><chatClient>Example Chat</chatClient><chatRoomName>room-9</chatRoomName>
      <content>hello</content></chatImIncident>
  </internetDetails>
  <reporter>
    <reportingPerson>
      <firstName>Rita</firstName><lastName>Reporter</lastName>
      <phone type="Business" countryCallingCode="+1">5550100</phone>
      <email>tns@example.test</email>
    </reportingPerson>
    <contactPerson><firstName>Carl</firstName><email>carl@example.test</email></contactPerson>
    <companyTemplate>Example Platform, Inc.</companyTemplate>
  </reporter>
  <personOrUserReported>
    <personOrUserReportedPerson>
      <firstName>Sam</firstName><phone>5550199</phone>
      <email>suspect@example.test</email><email>other@example.test</email><age>34</age>
    </personOrUserReportedPerson>
    <espIdentifier>user-42</espIdentifier>
    <espService>Example Chat</espService>
    <screenName>suspect42</screenName>
    <displayName>Sam S.</displayName><displayName>sammy</displayName>
    <profileUrl>https://example.test/u/42</profileUrl>
    <ipCaptureEvent>
      <ipAddress>203.0.113.7</ipAddress><eventName>Upload</eventName>
      <dateTime>2026-11-20T07:59:00Z</dateTime><possibleProxy>false</possibleProxy><port>443</port>
    </ipCaptureEvent>
    <ipCaptureEvent><ipAddress>198.51.100.2</ipAddress><eventName>Login</eventName></ipCaptureEvent>
    <priorCTReports>7855778</priorCTReports>
  </personOrUserReported>
  <intendedRecipient>
    <intendedRecipientPerson><firstName>Kim</firstName></intendedRecipientPerson><screenName>kid9</screenName>
  </intendedRecipient>
  <victim><victimPerson><age>13</age></victimPerson><displayName>K</displayName></victim>
  <additionalInfo>Reported by a user.</additionalInfo>
</report>
"""


def file_details(report_id: str, file_id: str, *, viewed: bool = True) -> bytes:
    return (
        f"<fileDetails><reportId>{report_id}</reportId><fileId>{file_id}</fileId>"
        f"<fileViewedByEsp>{'true' if viewed else 'false'}</fileViewedByEsp></fileDetails>"
    ).encode()


def full_file_details(report_id: str, file_id: str) -> bytes:
    return f"""<fileDetails>
  <reportId>{report_id}</reportId><fileId>{file_id}</fileId>
  <fileName>evidence.jpg</fileName><originalFileName>IMG_0001.jpg</originalFileName>
  <uploadedToEspTimestamp>2026-11-20T07:59:00Z</uploadedToEspTimestamp>
  <locationOfFile>https://cdn.example.test/m/1</locationOfFile>
  <fileViewedByEsp>true</fileViewedByEsp><exifViewedByEsp>false</exifViewedByEsp>
  <publiclyAvailable>false</publiclyAvailable><fileRelevance>Reported</fileRelevance>
  <fileAnnotations><generativeAi/><viral>true</viral></fileAnnotations>
  <industryClassification>A2</industryClassification>
  <originalFileHash hashType="MD5">5d41402abc4b2a76b9719d911017c592</originalFileHash>
  <originalFileHash hashType="PDQ">f8f8f0cee0f4a84f06370a22038f63f0</originalFileHash>
  <ipCaptureEvent><ipAddress>203.0.113.7</ipAddress><eventName>Upload</eventName><port>443</port></ipCaptureEvent>
  <details type="EXIF"><nameValuePair><name>Model</name><value>Pixel 9</value></nameValuePair></details>
  <details type="HASH"><nameValuePair><name>PhotoDNA</name><value>abc</value></nameValuePair></details>
  <additionalInfo>Found by a hash match.</additionalInfo>
</fileDetails>""".encode()


def file_details_out_of_order(report_id: str, file_id: str) -> bytes:
    return f"<fileDetails><fileId>{file_id}</fileId><reportId>{report_id}</reportId></fileDetails>".encode()
