"""The customer actions of Customer Chat API v3.6 (docs/protocol.md §2), a class each.

A :class:`~rxlivechat.protocol.base.Method` subclass is an action's request
payload; its type parameter is the Struct the success reply decodes into, and
defining it registers it in :data:`~rxlivechat.protocol.base.METHODS`:

.. code-block:: python

    class SendEvent(Method[SendEventResult]):
        action = "send_event"

Transports follow the table of docs/protocol.md §2.0: ``rtm = False`` marks Web-only
actions, ``web = "GET"`` the Web actions read with query parameters, and
``web = None`` the RTM-only ones (``login``, ``ping``, ``update_customer_page``,
``activate_customer_page``, ``deactivate_customer_page``).

Required request fields have no default; optional ones default to ``None`` and
are left off the wire. Replies that are maps keyed by data (properties,
localization phrases) are plain ``dict`` aliases, set as ``result_type``
explicitly because they are not classes.
"""

from __future__ import annotations

from .chats import (
    DeactivateChat,
    GetChat,
    GetChatResult,
    ListChats,
    ListChatsResult,
    ListThreads,
    ListThreadsResult,
    ResumeChat,
    ResumeChatResult,
    ResumeChatSpec,
    StartChat,
    StartChatResult,
    StartChatSpec,
    ThreadSpec,
)
from .configuration import (
    CheckGoals,
    ConfigurationButton,
    DynamicLivechatConfiguration,
    GetConfiguration,
    GetConfigurationResult,
    GetDynamicConfiguration,
    GetDynamicConfigurationResult,
    GetLocalization,
    GetLocalizationResult,
)
from .connection import (
    Application,
    CustomerPage,
    Login,
    LoginChat,
    LoginCustomer,
    LoginResult,
    Ping,
)
from .customers import (
    ActivateCustomerPage,
    DeactivateCustomerPage,
    FacebookMessengerProfile,
    GetCustomer,
    GetCustomerResult,
    Omnichannel,
    RequestEmailVerification,
    SetCustomerSessionFields,
    TwilioProfile,
    UpdateCustomer,
    UpdateCustomerPage,
    UpdateCustomerPageResult,
)
from .events import (
    DeleteEvent,
    MarkEventsAsSeen,
    SendEvent,
    SendEventResult,
    SendRichMessagePostback,
    SendSneakPeek,
    UploadFile,
    UploadFileResult,
)
from .fields import (
    FormType,
    GroupId,
    HttpUrl,
    Id,
    PropertiesIn,
    PropertyNamesIn,
    SessionFieldsIn,
    SortOrder,
)
from .properties import (
    DeleteChatProperties,
    DeleteEventProperties,
    DeleteThreadProperties,
    ListGroupProperties,
    ListGroupPropertiesResult,
    ListLicenseProperties,
    ListLicensePropertiesResult,
    UpdateChatProperties,
    UpdateEventProperties,
    UpdateThreadProperties,
)
from .status import (
    AcceptGreeting,
    CancelGreeting,
    GetForm,
    GetFormResult,
    GetPredictedAgent,
    GetPredictedAgentResult,
    GetUrlInfo,
    GetUrlInfoResult,
    ListGroupStatuses,
    ListGroupStatusesResult,
    RequestWelcomeMessage,
    RequestWelcomeMessageResult,
    SendGreetingButtonClicked,
)

__all__ = [
    "FormType",
    "GroupId",
    "HttpUrl",
    "Id",
    "PropertiesIn",
    "PropertyNamesIn",
    "SessionFieldsIn",
    "SortOrder",
    "AcceptGreeting",
    "ActivateCustomerPage",
    "Application",
    "CancelGreeting",
    "CheckGoals",
    "ConfigurationButton",
    "CustomerPage",
    "DeactivateChat",
    "DeactivateCustomerPage",
    "DeleteChatProperties",
    "DeleteEvent",
    "DeleteEventProperties",
    "DeleteThreadProperties",
    "DynamicLivechatConfiguration",
    "FacebookMessengerProfile",
    "GetChat",
    "GetChatResult",
    "GetConfiguration",
    "GetConfigurationResult",
    "GetCustomer",
    "GetCustomerResult",
    "GetDynamicConfiguration",
    "GetDynamicConfigurationResult",
    "GetForm",
    "GetFormResult",
    "GetLocalization",
    "GetLocalizationResult",
    "GetPredictedAgent",
    "GetPredictedAgentResult",
    "GetUrlInfo",
    "GetUrlInfoResult",
    "ListChats",
    "ListChatsResult",
    "ListGroupProperties",
    "ListGroupPropertiesResult",
    "ListGroupStatuses",
    "ListGroupStatusesResult",
    "ListLicenseProperties",
    "ListLicensePropertiesResult",
    "ListThreads",
    "ListThreadsResult",
    "Login",
    "LoginChat",
    "LoginCustomer",
    "LoginResult",
    "MarkEventsAsSeen",
    "Omnichannel",
    "Ping",
    "RequestEmailVerification",
    "RequestWelcomeMessage",
    "RequestWelcomeMessageResult",
    "ResumeChat",
    "ResumeChatResult",
    "ResumeChatSpec",
    "SendEvent",
    "SendEventResult",
    "SendGreetingButtonClicked",
    "SendRichMessagePostback",
    "SendSneakPeek",
    "SetCustomerSessionFields",
    "StartChat",
    "StartChatResult",
    "StartChatSpec",
    "ThreadSpec",
    "TwilioProfile",
    "UpdateChatProperties",
    "UpdateCustomer",
    "UpdateCustomerPage",
    "UpdateCustomerPageResult",
    "UpdateEventProperties",
    "UpdateThreadProperties",
    "UploadFile",
    "UploadFileResult",
]
